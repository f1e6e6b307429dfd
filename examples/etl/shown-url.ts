/**
 * A URL the user gave (`DATABASE_URL`, `--partner-url`, `--nats`) as the job shows it in log lines,
 * errors and the summary: its credentials hidden, whether or not it parses — `user:password@`
 * becomes `user:***@`, a lone `token@` becomes `***@`. Every place that prints such a URL goes
 * through `shownUrl`.
 */

/** the scheme and the userinfo of a URL: everything between `//` and the last `@` before the path */
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i

/** `url` with its credentials replaced by `***` (see the module doc). */
export const shownUrl = (url: string): string =>
  url.replace(USERINFO, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(":")
    return colon === -1 ? `${scheme}***@` : `${scheme}${userinfo.slice(0, colon)}:***@`
  })
