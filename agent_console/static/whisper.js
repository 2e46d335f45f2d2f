// A supervisor's whisper as a line of the agent's thread (chat and email views). The server
// sends the supervisor's name (`author_name`) and `whisper: true`; the label is written here
// from the catalogue. A whisper has no message id: it is known by its note id, so the one in
// the thread loaded on connect and the same one arriving live are shown once.

import { t } from "/console/static/i18n.js";

/** "Whisper from <name>" in the agent's language. */
export function whisperAuthor(m) {
  return t("whisper.from", { name: m.author_name || "" });
}

/** What makes a thread line unique: its message id, or its note id for a whisper. */
export function lineKey(m) {
  return m.whisper ? `whisper:${m.note_id}` : m.message_id;
}
