// Knowledge base suggestions in the chat box (docs/protocol.md, `suggestions`): after the
// visitor's first message the hub may offer a few articles before an agent joins. Each can be
// opened and read (its HTML was rendered and sanitised by the hub, and is shown in a sandboxed
// frame with no scripts); "Yes, this answered my question" closes the chat without an agent,
// "No, I'd like to talk to someone" sends it to the queue at once. Titles and snippets are
// text (textContent). The hub's wait for an answer (wait_s) is shown so nobody is surprised.

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export class SuggestionsPanel {
  /**
   * @param container an empty element (hidden until suggestions arrive)
   * @param answer (articleId, helpful, done(ack)) => void: the `suggestion_answer` request
   */
  constructor(container, answer) {
    this.container = container;
    this.answer = answer;
    this.articles = [];
    this.busy = false;
  }

  show(data) {
    const articles = Array.isArray(data && data.articles) ? data.articles : [];
    if (articles.length === 0) return;
    this.articles = articles;
    const box = this.container;
    box.replaceChildren();
    box.append(el("h2", "suggestions-title", "These articles may answer your question"));
    const list = el("ul", "suggestions-list");
    for (const article of articles) list.append(this.item(article));
    box.append(list);
    const minutes = Math.max(1, Math.round(Number(data.wait_s || 60) / 60));
    const no = el("button", "link-button suggestion-no", "No, I'd like to talk to someone");
    no.type = "button";
    no.addEventListener("click", () => this.send(articles[0].article_id, false));
    box.append(
      el("p", "suggestions-hint", `An agent will join if you don't answer within ${minutes} min.`),
      no,
      el("p", "form-error suggestions-error", ""),
    );
    box.lastChild.setAttribute("role", "alert");
    box.lastChild.hidden = true;
    box.hidden = false;
  }

  item(article) {
    const item = el("li", "suggestion");
    const details = el("details", "suggestion-details");
    const summary = el("summary", "suggestion-summary");
    summary.append(el("span", "suggestion-title", article.title), el("span", "suggestion-snippet", article.snippet));
    const frame = document.createElement("iframe");
    frame.className = "suggestion-frame";
    frame.setAttribute("sandbox", ""); // no scripts, no forms, opaque origin
    frame.title = article.title;
    details.addEventListener("toggle", () => {
      if (details.open && !frame.srcdoc) frame.srcdoc = article.body_html || "";
    });
    const question = el("p", "suggestion-question", "Did this answer your question?");
    const yes = el("button", "button-primary suggestion-yes", "Yes, this answered my question");
    yes.type = "button";
    yes.addEventListener("click", () => this.send(article.article_id, true));
    details.append(summary, frame, question, yes);
    item.append(details);
    return item;
  }

  send(articleId, helpful) {
    if (this.busy) return;
    this.busy = true;
    for (const button of this.container.querySelectorAll("button")) button.disabled = true;
    this.answer(articleId, helpful, (ack) => {
      this.busy = false;
      if (ack && ack.ok) {
        if (ack.closed) this.thanks();
        else this.hide();
        return;
      }
      // Nothing waits for an answer any more (an agent is on the way): just step aside.
      if (ack && ack.error && ack.error.code === "conflict") {
        this.hide();
        return;
      }
      for (const button of this.container.querySelectorAll("button")) button.disabled = false;
      const error = this.container.querySelector(".suggestions-error");
      error.textContent = "That didn't go through. Please try again.";
      error.hidden = false;
    });
  }

  thanks() {
    this.container.replaceChildren(
      el("p", "suggestions-thanks", "Glad that helped! Write again any time if you need us."),
    );
    this.container.hidden = false;
  }

  /** An agent is on the way (queued, joined) or the chat was closed otherwise. */
  hide() {
    this.articles = [];
    this.container.hidden = true;
    this.container.replaceChildren();
  }
}
