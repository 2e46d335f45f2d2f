// A long thread drawn a page at a time, newest first: a 2,000-message conversation opens with
// its newest PAGE_SIZE entries at the bottom, and older pages are prepended when the agent
// scrolls near the top (or presses the "older messages" button, for keyboard users) without
// moving what is on screen. Entries are built lazily: only drawn ones become elements.

import { el } from "/console/static/common.js";
import { tr } from "/console/static/i18n.js";

export const PAGE_SIZE = 100;
const NEAR_TOP_PX = 150;

export class ThreadPages {
  /** ``list``: the scrolling <ol>; entries are ``() => Element`` builders, oldest first. */
  constructor(list) {
    this.list = list;
    this.pending = [];
    this.more = el("button", "btn btn-ghost thread-older");
    this.more.type = "button";
    this.moreRow = el("li", "thread-older-row");
    this.moreRow.append(this.more);
    this.more.addEventListener("click", () => this.older({ focus: true }));
    list.addEventListener("scroll", () => {
      if (this.pending.length > 0 && list.scrollTop < NEAR_TOP_PX) this.older();
    }, { passive: true });
  }

  /** Replace the thread with ``builders``; only the newest page is drawn. */
  show(builders) {
    this.pending = builders.slice(0, Math.max(0, builders.length - PAGE_SIZE));
    const shown = builders.slice(this.pending.length);
    const fragment = document.createDocumentFragment();
    for (const build of shown) fragment.append(build());
    this.list.replaceChildren(fragment);
    this.renderMore();
  }

  /** Draw the next older page above what is shown, keeping the view where it was. */
  older({ focus = false } = {}) {
    if (this.pending.length === 0) return;
    const page = this.pending.splice(Math.max(0, this.pending.length - PAGE_SIZE));
    const anchor = this.moreRow.isConnected ? this.moreRow.nextSibling : this.list.firstChild;
    const before = this.list.scrollHeight - this.list.scrollTop;
    const fragment = document.createDocumentFragment();
    const nodes = page.map((build) => build());
    fragment.append(...nodes);
    this.list.insertBefore(fragment, anchor);
    this.renderMore();
    this.list.scrollTop = this.list.scrollHeight - before;
    if (focus && nodes.length > 0) {
      // The button may be gone (nothing older): keep the keyboard user's place in the thread.
      if (this.moreRow.isConnected) this.more.focus({ preventScroll: true });
      else {
        nodes[nodes.length - 1].tabIndex = -1;
        nodes[nodes.length - 1].focus({ preventScroll: true });
      }
    }
  }

  renderMore() {
    if (this.pending.length === 0) {
      this.moreRow.remove();
      return;
    }
    tr(this.more, "thread.older", { count: this.pending.length });
    if (this.list.firstChild !== this.moreRow) this.list.prepend(this.moreRow);
  }
}
