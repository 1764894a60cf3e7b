// The same client with one mistake: after a POST /bots whose answer was lost (a reset, a
// timeout, a 503), it sends the POST again without looking whether the bot already started.
// vexa-harness fails it on no-blind-post:
//   vexa-harness conform --client-cmd "node examples/node/broken.js" --rule no-blind-post
"use strict";
require("./vexa.js").main({ reconcile: false }).then((code) => { process.exitCode = code; });
