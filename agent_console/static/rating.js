// The customer's satisfaction rating of a past interaction in the customer panel's history:
// "Rating: ★★★★☆ 4/5 · their comment" (the comment is the customer's text, shown as text).
// Contract: interactions carry rating {score, comment, channel, rated_at} or null; the
// `interaction_rated` event says a customer just rated one.

import { el } from "/console/static/common.js";
import { t, tr } from "/console/static/i18n.js";

const MAX_SCORE = 5;

/** The rating line of a past interaction, or null when the customer gave none. */
export function ratingElement(interaction) {
  const rating = interaction && interaction.rating;
  if (!rating || typeof rating.score !== "number") return null;
  const line = el("span", "history-line history-rating");
  line.dataset.score = String(rating.score);
  line.append(tr(el("span", "history-rating-label"), "rating.label"));
  const stars = el("span", "history-rating-stars", "★".repeat(rating.score) + "☆".repeat(MAX_SCORE - rating.score));
  stars.setAttribute("aria-hidden", "true");
  line.append(stars, el("span", "history-rating-score", t("rating.score", { score: rating.score, max: MAX_SCORE })));
  if (rating.score <= 2) line.classList.add("is-low");
  if (rating.comment) line.append(el("span", "history-rating-comment", rating.comment));
  return line;
}
