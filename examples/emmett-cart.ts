/**
 * `npm run example:emmett`: a shopping cart written the way Emmett's docs write
 * one — a decider (decide + evolve), a command handler that retries on version
 * conflicts, and a projector keeping a read model — with seglog as the event
 * store, on ./data-emmett (or the directory given). The projector's checkpoint
 * and its read model live in the same database, so a second run goes on where
 * the first stopped.
 */
import { DeciderCommandHandler, IllegalStateError, type Command, type Event, type ReadEvent } from "@event-driven-io/emmett";
import { open } from "../engine/index.js";
import { getSeglogEventStore, type SeglogProcessorContext, type SeglogReadEventMetadata } from "../engine/integrations/emmett/index.js";

// ---- the domain: events, commands, state --------------------------------------------

type ProductItemAdded = Event<"ProductItemAdded", { cartId: string; productId: string; quantity: number; unitPrice: number }>;
type ProductItemRemoved = Event<"ProductItemRemoved", { cartId: string; productId: string; quantity: number }>;
type CartConfirmed = Event<"CartConfirmed", { cartId: string; confirmedAt: string }>;
type CartEvent = ProductItemAdded | ProductItemRemoved | CartConfirmed;

type AddProductItem = Command<"AddProductItem", { cartId: string; productId: string; quantity: number; unitPrice: number }>;
type RemoveProductItem = Command<"RemoveProductItem", { cartId: string; productId: string; quantity: number }>;
type ConfirmCart = Command<"ConfirmCart", { cartId: string }>;
type CartCommand = AddProductItem | RemoveProductItem | ConfirmCart;

type Cart = { status: "Empty" | "Open" | "Confirmed"; items: Record<string, number> };

const initialState = (): Cart => ({ status: "Empty", items: {} });

const evolve = (cart: Cart, event: CartEvent): Cart => {
  switch (event.type) {
    case "ProductItemAdded":
      return { status: "Open", items: { ...cart.items, [event.data.productId]: (cart.items[event.data.productId] ?? 0) + event.data.quantity } };
    case "ProductItemRemoved":
      return { ...cart, items: { ...cart.items, [event.data.productId]: (cart.items[event.data.productId] ?? 0) - event.data.quantity } };
    case "CartConfirmed":
      return { ...cart, status: "Confirmed" };
  }
};

const decide = (command: CartCommand, cart: Cart): CartEvent => {
  const { cartId } = command.data;
  if (cart.status === "Confirmed") throw new IllegalStateError(`cart ${cartId} is confirmed`);
  switch (command.type) {
    case "AddProductItem":
      return { type: "ProductItemAdded", data: command.data };
    case "RemoveProductItem":
      if ((cart.items[command.data.productId] ?? 0) < command.data.quantity) throw new IllegalStateError(`not enough ${command.data.productId} in cart ${cartId}`);
      return { type: "ProductItemRemoved", data: command.data };
    case "ConfirmCart":
      if (cart.status !== "Open") throw new IllegalStateError(`cart ${cartId} is empty`);
      return { type: "CartConfirmed", data: { cartId, confirmedAt: new Date().toISOString() } };
  }
};

// ---- wiring: seglog as the event store ------------------------------------------------

const dir = process.argv[2] ?? "./data-emmett";
const db = await open(dir, { durability: "sync" });
const eventStore = getSeglogEventStore(db);

// The read model: one summary per cart, kept in seglog's context store by a projector.
const consumer = eventStore.consumer();
consumer.projector<CartEvent>({
  projection: {
    name: "cart-summary",
    canHandle: ["ProductItemAdded", "ProductItemRemoved", "CartConfirmed"],
    handle: async (events: ReadEvent<CartEvent, SeglogReadEventMetadata>[], context: SeglogProcessorContext) => {
      for (const event of events) {
        const id = `cart-summary/${event.data.cartId}`;
        const current = await context.seglog.contexts.getContext(id).then(
          (r) => r.context as { items: number; total: number; status: string },
          () => ({ items: 0, total: 0, status: "Open" }),
        );
        const next =
          event.type === "ProductItemAdded"
            ? { ...current, items: current.items + event.data.quantity, total: current.total + event.data.quantity * event.data.unitPrice }
            : event.type === "ProductItemRemoved"
              ? { ...current, items: current.items - event.data.quantity }
              : { ...current, status: "Confirmed" };
        // The event's stream position as the version: a redelivered event writes the same summary again.
        await context.seglog.contexts.setContext(id, next, Number(event.metadata.streamPosition));
      }
    },
  },
});
const projecting = consumer.start();

// ---- commands -------------------------------------------------------------------------

const handle = DeciderCommandHandler<Cart, CartCommand, CartEvent>({
  decide,
  evolve,
  initialState,
  mapToStreamId: (id) => `shopping_cart-${id}`,
  retry: { onVersionConflict: true },
});

const cartId = `c${Date.now().toString(36)}`;
await handle(eventStore, cartId, { type: "AddProductItem", data: { cartId, productId: "shoes", quantity: 2, unitPrice: 50 } });
await handle(eventStore, cartId, { type: "AddProductItem", data: { cartId, productId: "socks", quantity: 3, unitPrice: 5 } });
await handle(eventStore, cartId, { type: "RemoveProductItem", data: { cartId, productId: "socks", quantity: 1 } });
const { newState, nextExpectedStreamVersion } = await handle(eventStore, cartId, { type: "ConfirmCart", data: { cartId } });
console.log(`cart ${cartId}: ${newState.status}, items ${JSON.stringify(newState.items)}, stream version ${nextExpectedStreamVersion}`);

try {
  await handle(eventStore, cartId, { type: "AddProductItem", data: { cartId, productId: "hat", quantity: 1, unitPrice: 20 } });
} catch (err) {
  console.log(`refused as the decider says: ${(err as Error).message}`);
}

// Wait until the projector has caught up with this cart's confirmation, then show the read model.
for (;;) {
  const summary = await db.contexts.getContext(`cart-summary/${cartId}`).catch(() => undefined);
  if (summary?.context.status === "Confirmed") {
    console.log(`read model cart-summary/${cartId}: ${JSON.stringify(summary.context)}`);
    break;
  }
  await new Promise((r) => setTimeout(r, 10));
}
console.log(`carts projected in ${dir} so far: ${(await db.contexts.listContexts()).filter((c) => c.contextId.startsWith("cart-summary/")).length}`);

await consumer.close();
await projecting;
await db.close();
