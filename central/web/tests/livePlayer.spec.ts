// LivePlayer: every request for the stream carries the user's token (the media server asks
// central whether this viewer may watch), and a view closed while hls.js was still loading
// attaches nothing.
import { flushPromises, mount } from "@vue/test-utils";
import { afterEach, describe, expect, it, vi } from "vitest";

const hlsMock = vi.hoisted(() => {
  let open: () => void = () => {};
  const gate = new Promise<void>((done) => { open = done; });
  const made: { config: { xhrSetup?: (xhr: { setRequestHeader: (k: string, v: string) => void }) => void } }[] = [];
  class Hls {
    static Events = { ERROR: "hlsError" };
    static isSupported() { return true; }
    constructor(public config: never) { made.push(this as never); }
    on() {}
    loadSource() {}
    attachMedia() {}
    destroy() {}
  }
  return { Hls, made, gate, open: () => open() };
});

vi.mock("hls.js", async () => {
  await hlsMock.gate; // hls.js "loads" only when the test says
  return { default: hlsMock.Hls };
});

import { session } from "../src/api";
import LivePlayer from "../src/components/LivePlayer.vue";

afterEach(() => vi.unstubAllGlobals());

describe("LivePlayer", () => {
  it("sends the token and attaches nothing once closed while hls.js loads", async () => {
    session.token = "tok-123";
    const fetchMock = vi.fn(async () => new Response("#EXTM3U\n#EXTINF:1.0,\n0.ts\n", { status: 200 }));
    vi.stubGlobal("fetch", fetchMock);
    const closedEarly = mount(LivePlayer, { props: { src: "/hls/D1.CAM-1/index.m3u8" } });
    await flushPromises();
    const init = (fetchMock.mock.calls[0] as unknown as [string, RequestInit])[1];
    expect((init.headers as Record<string, string>).Authorization).toBe("Bearer tok-123");
    closedEarly.unmount(); // closed while hls.js is still on its way
    hlsMock.open();
    await flushPromises();
    await new Promise((done) => setTimeout(done, 10));
    expect(hlsMock.made).toHaveLength(0);

    const open = mount(LivePlayer, { props: { src: "/hls/D1.CAM-1/index.m3u8" } });
    await vi.waitFor(() => expect(hlsMock.made).toHaveLength(1));
    const headers: Record<string, string> = {};
    hlsMock.made[0].config.xhrSetup!({ setRequestHeader: (k, v) => { headers[k] = v; } });
    expect(headers).toEqual({ Authorization: "Bearer tok-123" });
    open.unmount();
  });
});
