// What players read (and hear) about a guess, in one place (its Python twin:
// guessgame/game/words.py).

export const NOT_A_DIGIT = "That doesn't look like a digit";

/** The digit with its article: "a 7", "an 8" ("An 8" with capital). */
export function aDigit(digit, { capital = false } = {}) {
  const article = Number(digit) === 8 ? "an" : "a";
  return `${capital ? article[0].toUpperCase() + article.slice(1) : article} ${digit}`;
}

/** The model's first guess of a round, as it thinks aloud: "I see… an 8?" */
export const iSee = (digit) => `I see… ${aDigit(digit)}?`;

/** A different guess after that: "…or a 4?" */
export const orMaybe = (digit) => `…or ${aDigit(digit)}?`;

/** The round is won: "Oh, I know, it's a 7!" */
export const iKnow = (digit) => `Oh, I know, it's ${aDigit(digit)}!`;
