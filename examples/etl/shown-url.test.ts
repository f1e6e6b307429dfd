import { describe, expect, it } from "vitest"
import { shownUrl } from "./shown-url.js"

describe("shownUrl", () => {
  it("hides a password, keeps the user, the host and the rest", () => {
    expect(shownUrl("postgres://app:s3cret@127.0.0.1:5432/db?sslmode=disable")).toBe(
      "postgres://app:***@127.0.0.1:5432/db?sslmode=disable"
    )
    expect(shownUrl("nats://u:p@a@nats.example:4222")).toBe("nats://u:***@nats.example:4222")
  })

  it("hides a lone user part (a token), and leaves a URL without credentials as it is", () => {
    expect(shownUrl("nats://s3cret-token@127.0.0.1:4222")).toBe("nats://***@127.0.0.1:4222")
    expect(shownUrl("http://127.0.0.1:8080/records")).toBe("http://127.0.0.1:8080/records")
    // an @ after the host is not userinfo
    expect(shownUrl("http://127.0.0.1:8080/a@b")).toBe("http://127.0.0.1:8080/a@b")
  })

  it("hides credentials in what does not parse as a URL too", () => {
    expect(shownUrl("mysql://x:s3cret@[bad/y")).toBe("mysql://x:***@[bad/y")
  })
})
