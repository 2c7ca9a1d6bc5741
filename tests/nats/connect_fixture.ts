// Tries connectNatsCalls() with the options given as JSON, prints
// "connected" or "refused: <message>". Run in its own process: a refused
// connection can end in an uncaught ECONNRESET from the NATS client's socket
// under Deno (docs/nats.md, "Known issue"), which must not take the test
// runner down with it.
//   deno run --allow-net --allow-read connect_fixture.ts '<options JSON>'
import { connectNatsCalls } from "../../nats.ts";

try {
  const calls = await connectNatsCalls(JSON.parse(Deno.args[0]));
  console.log("connected");
  await calls.close();
} catch (error) {
  console.log(`refused: ${(error as Error).message}`);
}
