/** The bytes of each answer that `nodeFetch` read whole, by its `Response`. */
const buffered = new WeakMap<Response, Uint8Array>()

/** Records that `response` was read whole into `bytes`; returns the response. */
export function rememberBufferedBody(response: Response, bytes: Uint8Array): Response {
  buffered.set(response, bytes)
  return response
}

/**
 * The body of a `nodeFetch` answer that was read whole, or undefined (a stream, an empty
 * body, or another fetch's answer). Readers take these bytes as they are: `text()` or
 * `arrayBuffer()` on the answer would wrap them in a web stream only to read them back.
 * No Node built-ins here, so the browser build of the client can ask too.
 */
export function bufferedBody(response: Response): Uint8Array | undefined {
  return buffered.get(response)
}
