// The satisfaction survey at the end of a chat: the `survey` event of namespace /chat
// (docs/protocol.md) shows a rating card; the visitor picks 1 to 5 (radio buttons, so arrow
// keys move between them) and may add a comment, and the `rate` event sends it. The hub's
// refusal (ack error) is shown on the card; after a rating the card thanks the visitor and
// lets them change it (the hub accepts a change for a short while).

const STARS = ["Very poor", "Poor", "OK", "Good", "Excellent"];

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export class SurveyCard {
  /** ``request(event, data, done)`` emits with an ack; ``errorText(ack, fallback)`` words a
   * refusal; the card is placed before ``before``. */
  constructor(before, request, errorText) {
    this.request = request;
    this.errorText = errorText;
    this.interactionId = null;
    this.maxComment = 2000;
    this.root = el("section", "survey");
    this.root.id = "chat-survey";
    this.root.hidden = true;
    this.root.setAttribute("aria-labelledby", "survey-title");
    this.form = el("form", "survey-form");
    this.form.noValidate = true;
    const title = el("h2", "survey-title", "How did we do?");
    title.id = "survey-title";
    this.scale = el("fieldset", "survey-scale");
    const legend = el("legend", "visually-hidden", "Rate this conversation from 1 (very poor) to 5 (excellent)");
    this.scale.append(legend);
    this.radios = STARS.map((text, index) => {
      const score = index + 1;
      const label = el("label", "survey-score");
      const input = el("input");
      input.type = "radio";
      input.name = "score";
      input.value = String(score);
      input.setAttribute("aria-label", `${score} of 5: ${text}`);
      label.append(input, el("span", "survey-star", "★"), el("span", "survey-score-number", String(score)));
      label.title = text;
      this.scale.append(label);
      input.addEventListener("change", () => this.pick(score));
      return input;
    });
    this.picked = el("p", "survey-picked");
    this.picked.setAttribute("aria-live", "polite");
    const field = el("div", "field survey-comment-field");
    const commentLabel = el("label", "", "Anything to add? (optional)");
    commentLabel.htmlFor = "survey-comment";
    this.comment = el("textarea", "survey-comment");
    this.comment.id = "survey-comment";
    this.comment.rows = 2;
    this.comment.maxLength = this.maxComment;
    field.append(commentLabel, this.comment);
    this.error = el("p", "form-error survey-error");
    this.error.setAttribute("role", "alert");
    this.error.hidden = true;
    this.submit = el("button", "button-primary survey-send", "Send rating");
    this.submit.type = "submit";
    this.submit.disabled = true;
    this.form.append(title, this.scale, this.picked, field, this.error, this.submit);
    this.thanks = el("p", "survey-thanks");
    this.thanks.setAttribute("role", "status");
    this.thanks.hidden = true;
    this.change = el("button", "link-button survey-change", "Change my rating");
    this.change.type = "button";
    this.change.hidden = true;
    this.root.append(this.form, this.thanks, this.change);
    before.parentNode.insertBefore(this.root, before);
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.change.addEventListener("click", () => this.showForm());
  }

  /** The hub asks for a rating of chat ``card.interaction_id``. */
  show(card) {
    if (!card || typeof card.interaction_id !== "number") return;
    this.interactionId = card.interaction_id;
    if (typeof card.max_comment_chars === "number") this.comment.maxLength = card.max_comment_chars;
    for (const r of this.radios) r.checked = false;
    this.comment.value = "";
    this.picked.textContent = "";
    this.submit.disabled = true;
    this.root.hidden = false;
    this.showForm();
    this.root.scrollIntoView({ block: "nearest" });
  }

  /** A new conversation started (or a new visitor): the card goes away. */
  hide() {
    this.interactionId = null;
    this.root.hidden = true;
  }

  showForm() {
    this.form.hidden = false;
    this.thanks.hidden = true;
    this.change.hidden = true;
    this.error.hidden = true;
  }

  pick(score) {
    this.picked.textContent = `${score} of 5: ${STARS[score - 1]}`;
    this.submit.disabled = false;
  }

  send() {
    const chosen = this.radios.find((r) => r.checked);
    if (!chosen || this.interactionId === null) {
      this.showError("Choose a rating from 1 to 5 first.");
      return;
    }
    const score = Number(chosen.value);
    this.submit.disabled = true;
    this.error.hidden = true;
    this.request("rate", { interaction_id: this.interactionId, score, comment: this.comment.value }, (ack) => {
      this.submit.disabled = false;
      if (!ack || !ack.ok) {
        this.showError(this.errorText(ack, "Your rating could not be sent. Please try again."));
        return;
      }
      this.form.hidden = true;
      this.thanks.textContent = `Thank you! You rated us ${ack.score} of 5.`;
      this.thanks.hidden = false;
      this.change.hidden = false;
      this.change.focus();
    });
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = false;
  }
}
