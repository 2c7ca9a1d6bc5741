import assert from "node:assert/strict";
import { clientAddressKey } from "./address.ts";

Deno.test("clientAddressKey: IPv4 as is, v4-mapped as IPv4, IPv6 by /64, loopback not counted", () => {
  assert.equal(clientAddressKey("192.0.2.7"), "192.0.2.7");
  assert.equal(clientAddressKey("::ffff:192.0.2.7"), "192.0.2.7");
  assert.equal(clientAddressKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  assert.equal(clientAddressKey("2001:db8:1:2::7"), "2001:db8:1:2::/64");
  assert.equal(clientAddressKey("fe80::1%eth0"), "fe80:0:0:0::/64");
  assert.equal(clientAddressKey("127.0.0.1"), undefined);
  assert.equal(clientAddressKey("127.9.0.1"), undefined);
  assert.equal(clientAddressKey("::ffff:127.0.0.1"), undefined);
  assert.equal(clientAddressKey("::1"), undefined);
  assert.equal(clientAddressKey("not:an::address::"), "not:an::address::");
});
