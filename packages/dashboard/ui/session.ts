/**
 * The signed-in token. It lives in `sessionStorage`: gone when the tab closes, never sent by
 * the browser on its own (no cookie), readable only by this origin's script.
 */
const TOKEN_KEY = 'litecell.token'

export function storedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY)
  } catch {
    return null
  }
}

export function storeToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token)
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY)
}
