// The well-behaved Node client: reads GET /meetings before re-sending an ambiguous POST /bots.
//   vexa-harness conform --client-cmd "node examples/node/good.js"
"use strict";
require("./vexa.js").main().then((code) => { process.exitCode = code; });
