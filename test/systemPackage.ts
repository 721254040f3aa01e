/**
 * A system package a test drives for real (tmux, chromium, bubblewrap,
 * PostgreSQL). Where it is missing, the tests that need it skip with a
 * warning naming the Debian package to install; in CI (`CI=true`), which
 * installs every one of them (.ci/run), a missing package fails the file
 * instead, so a broken CI image cannot pass by skipping.
 */
export const required = (present: boolean, what: string, debianPackage: string): boolean => {
  if (present) return true
  const message = `${what} needs the Debian package \`${debianPackage}\`, which is missing here`
  if (process.env["CI"] === "true") throw new Error(`CI=true: ${message} (.ci/run installs it)`)
  console.warn(`skipped: ${message}`)
  return false
}
