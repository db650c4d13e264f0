// What players read about a guess, in one place (its Python twin: guessgame/game/words.py).

export const NOT_A_DIGIT = "That doesn't look like a digit";

/** The digit with its article: "a 7", "an 8" ("An 8" with capital). */
export function aDigit(digit, { capital = false } = {}) {
  const article = Number(digit) === 8 ? "an" : "a";
  return `${capital ? article[0].toUpperCase() + article.slice(1) : article} ${digit}`;
}
