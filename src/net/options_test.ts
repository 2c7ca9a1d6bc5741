import assert from "node:assert/strict";
import type { IpcJsonStreamOptions } from "../channel/options.ts";
import { clientAddressKey, streamOptionsOf } from "./options.ts";

Deno.test("streamOptionsOf passes every stream option on and keeps the network's own out", () => {
  // `Required<…>` makes this test fail to compile when a stream option is
  // added without being listed here, so none can be forgotten again.
  const every: Required<IpcJsonStreamOptions<unknown>> = {
    serialization: "advanced",
    maxMessageBytes: 1234,
    sendBufferBytes: 2345,
    receiveBufferBytes: 3456,
    receiveOverflow: "drop",
    maxConcurrentCalls: 7,
    validate: () => true,
    onInvalidMessage: () => {},
    nodeCompat: true,
    trace: () => {},
  };
  const network = {
    path: "/tmp/x.sock",
    authKey: "a key of sixteen bytes or more",
    insecure: false,
    handshakeTimeout: 100,
    maxConnections: 3,
    onError: () => {},
  };
  const passed = streamOptionsOf({ ...every, ...network }, "unix");
  assert.deepEqual(passed, every);
});

Deno.test("streamOptionsOf gives TCP the network default of maxMessageBytes, Unix sockets the stream's", () => {
  assert.equal(streamOptionsOf({}, "tcp").maxMessageBytes, 4 * 1024 * 1024);
  assert.equal(streamOptionsOf({}, "tls").maxMessageBytes, 4 * 1024 * 1024);
  assert.equal(streamOptionsOf({}, "unix").maxMessageBytes, 128 * 1024 * 1024);
  assert.equal(
    streamOptionsOf({ maxMessageBytes: 10 }, "tcp").maxMessageBytes,
    10,
  );
  assert.throws(
    () => streamOptionsOf({ sendBufferBytes: 0 }, "tcp"),
    RangeError,
  );
});

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
