// The "app" of the safety-net test: leaves a rejected promise behind and a timer that throws.
export function misbehave(): void {
  void Promise.reject(new Error('floating rejection from the app'))
  setTimeout(() => {
    throw new Error('timer thrown by the app')
  }, 5)
}
