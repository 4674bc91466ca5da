/** Client-side checks shared by the forms; the server checks the same and more. */

export function isEmail(value: string): boolean {
  return /^\S+@\S+$/.test(value.trim());
}

/** The api's minimum (it also refuses common passwords and the account's own e-mail). */
export const PASSWORD_MIN_LENGTH = 8;
