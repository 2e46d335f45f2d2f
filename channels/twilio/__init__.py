"""Phone numbers on Twilio: the shared pieces (signature-checked ``/twilio`` webhooks, the REST
client, number provisioning) and the SMS channel on them; voice reuses the same pieces."""
