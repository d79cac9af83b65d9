// The customer's answer on 002's scale (满意 / 一般 / 不满意) or as a 1-5 score (004: satisfaction 4.5/5), one
// from the other: 002's words map to 5, 3 and 1; a score is kept as given and its word derived (5-4, 3, 2-1).
export const ratings = ['satisfied', 'neutral', 'dissatisfied'] as const
export type Rating = (typeof ratings)[number]

const scoreOfRating: Record<Rating, number> = { satisfied: 5, neutral: 3, dissatisfied: 1 }

export function ratingOfScore(score: number): Rating {
  return score >= 4 ? 'satisfied' : score === 3 ? 'neutral' : 'dissatisfied'
}

/** Both, from whichever the customer gave. */
export function answerScale(answer: { rating: Rating } | { score: number }): { rating: Rating; score: number } {
  return 'rating' in answer ? { rating: answer.rating, score: scoreOfRating[answer.rating] } : { rating: ratingOfScore(answer.score), score: answer.score }
}
