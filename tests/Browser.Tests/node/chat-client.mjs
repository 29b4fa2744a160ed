// Talks to the chat sample with the npm `ws` package, as a third-party client would:
//   node chat-client.mjs <server base URL, e.g. http://127.0.0.1:8787> <room>
// alice and bob join, alice speaks, both get the broadcast, bob sends a message over the size bound,
// then carol joins and gets the history; dave breaks the protocol in each way the room answers. Prints what each saw as one JSON line; the .NET test asserts
// on it. Exits 1 with the reason on stderr if a step does not happen within the timeout.
import WebSocket from "ws";

const [base, room] = process.argv.slice(2);
if (!base || !room) {
  console.error("usage: node chat-client.mjs <server base URL> <room>");
  process.exit(2);
}
const url = `${base.replace(/^http/, "ws").replace(/\/$/, "")}/rooms/${encodeURIComponent(room)}/websocket`;
const stepTimeoutMs = 30_000;

// A socket whose messages are queued until a step waits for one that matches.
function connect(name) {
  const ws = new WebSocket(url);
  const received = [];
  let waiter = null;
  ws.on("message", (data, isBinary) => {
    const message = isBinary ? { type: "binary" } : JSON.parse(data.toString("utf8"));
    received.push(message);
    if (waiter) waiter();
  });
  const closed = new Promise(resolve => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  const opened = new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  // Resolves with the first received message (after `from`) matching `predicate`.
  async function next(what, predicate, from = 0) {
    const deadline = Date.now() + stepTimeoutMs;
    for (;;) {
      const index = received.findIndex((m, i) => i >= from && predicate(m));
      if (index >= 0) return received[index];
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${name} did not receive ${what} within ${stepTimeoutMs} ms; got ${JSON.stringify(received)}`);
      await new Promise(resolve => {
        const timer = setTimeout(resolve, left);
        waiter = () => { clearTimeout(timer); waiter = null; resolve(); };
      });
    }
  }
  return {
    name, ws, received, next, closed,
    async join() {
      await opened;
      ws.send(JSON.stringify({ name }));
      return next("ready", m => m.type === "ready");
    },
    say(text) { ws.send(JSON.stringify({ text })); },
  };
}

async function main() {
  const alice = connect("alice");
  const aliceReady = await alice.join();
  const bob = connect("bob");
  const bobReady = await bob.join();
  const aliceSawBobJoin = await alice.next("bob's join", m => m.type === "joined" && m.name === "bob");

  const text = `hello from node ${process.pid}`;
  alice.say(text);
  const isText = m => m.type === "message" && m.text === text;
  const bobGot = await bob.next("alice's message", isText);
  const aliceGot = await alice.next("her own message back", isText);

  bob.say("x".repeat(1001));
  const bobError = await bob.next("an error for a message over the bound", m => m.type === "error");

  const carol = connect("carol");
  const carolReady = await carol.join();
  const readyIndex = carol.received.indexOf(carolReady);
  const history = carol.received.slice(0, readyIndex).filter(m => m.type === "message");

  // Each mistake gets an error and the socket stays open: dave can still join after them.
  const dave = connect("dave");
  await new Promise((resolve, reject) => { dave.ws.once("open", resolve); dave.ws.once("error", reject); });
  const mistakes = [
    () => dave.ws.send("not json"),
    () => dave.ws.send(Buffer.from([1, 2, 3])),
    () => dave.say("hello before joining"),
    () => dave.ws.send(JSON.stringify({ name: "d".repeat(33) })),
  ];
  const daveErrors = [];
  for (const mistake of mistakes) {
    const from = dave.received.length;
    mistake();
    daveErrors.push((await dave.next("an error", m => m.type === "error", from)).error);
  }
  const daveReady = await dave.join();

  for (const client of [alice, bob, carol, dave]) client.ws.close(1000, "done");
  await Promise.all([alice.closed, bob.closed, carol.closed, dave.closed]);

  console.log(JSON.stringify({
    aliceReady, bobReady, aliceSawBobJoin, bobGot, aliceGot, bobError, carolReady, history, daveErrors, daveReady,
  }));
}

main().catch(error => {
  console.error(error.stack ?? String(error));
  process.exit(1);
});
