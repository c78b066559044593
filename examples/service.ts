/**
 * `npm run example`: a small order service that embeds seglog on ./data. It appends
 * with expected versions, reads a stream back, follows every new event through
 * a subscription, and prints the database's stats. Run it again and it goes on
 * from where the last run stopped.
 */
import { open, SeglogError } from "../engine/index.js";

const dir = process.argv[2] ?? "./data";
const db = await open(dir, { durability: "sync" });
console.log(`seglog: opened ${db.dir}`);

// Follow everything appended from now on, as a projection would.
const feed = db.events.subscribe({ from: "end" });
let seen = 0;
const following = (async () => {
  for await (const e of feed) {
    seen++;
    if (seen <= 3) console.log(`  subscription saw #${e.position} ${e.streamId} v${e.version} ${e.type}`);
  }
})();

const run = Date.now().toString(36);
for (let n = 0; n < 5; n++) {
  const orderId = `order-${run}-${n}`;
  await db.events.append(orderId, [{ type: "OrderPlaced", data: { orderId, items: n + 1, total: 9.5 * (n + 1) } }], { expectedVersion: "no_stream" });
  await db.events.append(orderId, [{ type: "OrderPaid", data: { orderId } }, { type: "OrderShipped", data: { orderId, carrier: "post" } }], {
    expectedVersion: 0,
  });
}
console.log(`appended 15 events over 5 order streams`);

// Optimistic concurrency: a writer that read an old version is refused.
try {
  await db.events.append(`order-${run}-0`, [{ type: "OrderCancelled", data: {} }], { expectedVersion: 0 });
} catch (err) {
  if (!(err instanceof SeglogError)) throw err;
  console.log(`stale write refused: ${err.code} (expected ${String(err.expected)}, actual ${err.actual})`);
}

const history = await db.events.readStream(`order-${run}-0`);
console.log(`order-${run}-0: ${history.map((e) => `v${e.version} ${e.type}`).join(", ")}`);

const latest = await db.events.readAll({ direction: "backward", count: 3 });
console.log(`latest positions: ${latest.map((e) => e.position).join(", ")}`);

// Let the subscription catch the last commit, then stop it.
while (seen < 15) await new Promise((r) => setTimeout(r, 5));
feed.close();
await following;
console.log(`subscription delivered ${seen} events`);

const stats = await db.stats();
console.log(`stats: ${stats.events} events in ${stats.streams} streams, ${stats.segments} segment(s), ${stats.diskBytes} bytes, last position ${stats.lastPosition}`);
await db.close();
