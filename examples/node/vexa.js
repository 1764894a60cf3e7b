// A Vexa client on Node's own fetch (Node >= 20, no npm packages), speaking vexa-harness's
// command protocol:   node good.js <operation> <args-json>   with VEXA_API_BASE, VEXA_API_KEY.
// Exit 0 with the result as JSON on stdout, 1 with a one-line reason on stderr when it gave
// up, 2 when the operation is not supported.
//
// The policy the conformance rules ask for: a timeout on every request; 429/5xx, timeouts
// and resets retried with full-jitter exponential backoff, never sooner than Retry-After;
// 400/401/403/404/409/422 not retried; bounded attempts and time; and after a POST /bots
// whose outcome is unknown, a read of GET /meetings before any new POST (`reconcile`).
"use strict";

const RETRY = new Set([429, 500, 502, 503, 504]);
const AMBIGUOUS = new Set([500, 502, 503, 504]);
const LIVE = new Set(["requested", "joining", "awaiting_admission", "active"]);
const DEFAULTS = { maxAttempts: 7, maxTime: 60, base: 0.25, cap: 5, timeout: 5, reconcile: true };

class GiveUp extends Error {}
class Unsupported extends Error {}

const sleep = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

function retryAfter(headers) {
  const value = headers.get("retry-after");
  if (value === null) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const when = Date.parse(value);
  return Number.isNaN(when) ? null : Math.max(0, (when - Date.now()) / 1000);
}

class Attempts {
  constructor(policy, limit) {
    this.policy = policy;
    this.limit = limit ?? policy.maxAttempts;
    this.started = Date.now();
    this.count = 0;
  }

  nextWait(why, atLeast) {
    if (this.count >= this.limit) throw new GiveUp(`gave up after ${this.count} attempt(s): ${why}`);
    const ceiling = Math.min(this.policy.cap, this.policy.base * 2 ** (this.count - 1));
    let wait = Math.random() * ceiling; // full jitter
    if (atLeast !== null) wait = Math.max(wait, atLeast);
    if ((Date.now() - this.started) / 1000 + wait > this.policy.maxTime) {
      throw new GiveUp(`gave up: the next attempt would start after ${this.policy.maxTime} s: ${why}`);
    }
    return wait;
  }
}

function need(args, ...names) {
  const missing = names.filter((name) => args[name] === undefined || args[name] === null || args[name] === "");
  if (missing.length) throw new GiveUp(`missing argument(s): ${missing.join(", ")}`);
  return names.map((name) => String(args[name]));
}

function meeting(args) {
  const [platform, native] = need(args, "platform", "native_meeting_id");
  return `${encodeURIComponent(platform)}/${encodeURIComponent(native)}`;
}

function requestFor(operation, args) {
  switch (operation) {
    case "start_bot": {
      need(args, "platform", "native_meeting_id");
      const body = {};
      for (const key of ["platform", "native_meeting_id", "passcode", "bot_name", "language"]) {
        if (args[key] !== undefined && args[key] !== null) body[key] = args[key];
      }
      return { method: "POST", path: "/bots", body };
    }
    case "stop_bot": return { method: "DELETE", path: `/bots/${meeting(args)}` };
    case "bot_status": return { method: "GET", path: "/bots/status" };
    case "get_transcript": return { method: "GET", path: `/transcripts/${meeting(args)}` };
    case "list_meetings": return { method: "GET", path: "/meetings" };
    case "update_meeting":
      return { method: "PATCH", path: `/meetings/${meeting(args)}`, body: { data: args.data || {} } };
    case "delete_meeting": return { method: "DELETE", path: `/meetings/${meeting(args)}` };
    case "update_bot_config": {
      const [language] = need(args, "language");
      return { method: "PUT", path: `/bots/${meeting(args)}/config`, body: { language } };
    }
    case "set_webhook": {
      const [url] = need(args, "webhook_url");
      const body = { webhook_url: url };
      if (args.webhook_secret !== undefined && args.webhook_secret !== null) body.webhook_secret = String(args.webhook_secret);
      return { method: "PUT", path: "/user/webhook", body };
    }
    case "delete_recording": {
      const [recording] = need(args, "recording_id");
      return { method: "DELETE", path: `/recordings/${encodeURIComponent(recording)}` };
    }
    default:
      throw new Unsupported(`${operation}: not supported`);
  }
}

class VexaClient {
  constructor(baseUrl, apiKey, policy = {}) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.apiKey = apiKey;
    this.policy = { ...DEFAULTS, ...policy };
  }

  // One attempt. Resolves to {response, body}; rejects on a timeout, reset or closed socket.
  async attempt(call) {
    const init = {
      method: call.method,
      headers: { "X-API-Key": this.apiKey },
      signal: AbortSignal.timeout(this.policy.timeout * 1000),
    };
    if (call.body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(call.body);
    }
    const response = await fetch(this.baseUrl + call.path, init);
    const text = await response.text(); // a body cut short rejects here, as a transport error
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch { body = null; }
    return { response, body };
  }

  async send(call, limit) {
    const budget = new Attempts(this.policy, limit);
    for (;;) {
      budget.count += 1;
      let why;
      let atLeast = null;
      try {
        const { response, body } = await this.attempt(call);
        if (response.ok) return body;
        why = `${call.method} ${call.path}: HTTP ${response.status}`;
        if (!RETRY.has(response.status)) throw new GiveUp(why);
        atLeast = retryAfter(response.headers);
      } catch (error) {
        if (error instanceof GiveUp) throw error;
        why = `${call.method} ${call.path}: ${error.name}: ${error.cause?.code || error.message}`;
      }
      await sleep(budget.nextWait(why, atLeast));
    }
  }

  async runningBot(platform, native) {
    let listing;
    try {
      listing = await this.send({ method: "GET", path: "/meetings" }, 3);
    } catch (error) {
      throw new GiveUp(`cannot tell whether the bot started, not re-sending: ${error.message}`);
    }
    for (const row of listing?.meetings || []) { // newest first
      if (row.platform === platform && row.native_meeting_id === native) {
        return LIVE.has(row.status) ? row : null;
      }
    }
    return null;
  }

  async startBot(call, platform, native) {
    const budget = new Attempts(this.policy);
    let unsure = false; // a POST whose outcome we could not know
    for (;;) {
      if (unsure && this.policy.reconcile) {
        const running = await this.runningBot(platform, native);
        if (running) return running; // the lost POST did start it
      }
      budget.count += 1;
      let why;
      let atLeast = null;
      try {
        const { response, body } = await this.attempt(call);
        if (response.ok) return body;
        why = `POST /bots: HTTP ${response.status}`;
        if (!RETRY.has(response.status)) throw new GiveUp(why);
        unsure = unsure || AMBIGUOUS.has(response.status);
        atLeast = retryAfter(response.headers);
      } catch (error) {
        if (error instanceof GiveUp) throw error;
        unsure = true;
        why = `POST /bots: ${error.name}: ${error.cause?.code || error.message}`;
      }
      await sleep(budget.nextWait(why, atLeast));
    }
  }

  async perform(operation, args) {
    const call = requestFor(operation, args);
    if (operation === "start_bot") return this.startBot(call, String(args.platform), String(args.native_meeting_id));
    return this.send(call);
  }
}

async function main(policy = {}) {
  const [operation, raw] = process.argv.slice(2);
  if (operation === undefined || raw === undefined) {
    console.error("usage: node good.js <operation> <args-json>");
    return 2;
  }
  const base = process.env.VEXA_API_BASE;
  const key = process.env.VEXA_API_KEY;
  if (!base || !key) {
    console.error("VEXA_API_BASE and VEXA_API_KEY must be set");
    return 1;
  }
  try {
    const result = await new VexaClient(base, key, policy).perform(operation, JSON.parse(raw));
    process.stdout.write(JSON.stringify(result ?? null) + "\n");
    return 0;
  } catch (error) {
    console.error(`${operation}: ${error.message}`.replace(/\s+/g, " "));
    return error instanceof Unsupported ? 2 : 1;
  }
}

module.exports = { VexaClient, main };
