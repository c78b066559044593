/**
 * verify() for db.streams: every chunk an index names must read back as a
 * chunk record that starts where the index says. Reads go through the record
 * reader, so a failed checksum shows up here as a CORRUPTION problem.
 */
import { RecordType } from "../../format/constants.js";
import { DAMAGED } from "../../log/location.js";
import type { Log } from "../../log/log.js";
import type { StreamCatalog } from "./stream-catalog.js";
import { chunkPayload, decodeChunkHead } from "./stream-codec.js";

export function verifyStreams(catalog: StreamCatalog, log: Log): string[] {
  const problems: string[] = [];
  for (const inc of catalog.byNumber.values()) {
    const c = inc.chunks;
    for (let i = 0; i < c.count; i++) {
      const where = `byte stream ${inc.streamId} (incarnation ${inc.number}) chunk ${i}`;
      const location = c.location(i);
      if (location === DAMAGED) {
        problems.push(`${where}: lost to damage found at open`);
        continue;
      }
      try {
        const record = log.reader.read(location);
        if (record.type !== RecordType.ByteStreamChunk) {
          problems.push(`${where}: the index points at a record of type ${record.type}`);
          continue;
        }
        const head = decodeChunkHead(record.body);
        const payload = chunkPayload(record.body).length;
        if (head.firstMessage !== c.firstMessage(i) || head.firstByte !== c.firstByte(i) || payload < c.endByte(i) - c.firstByte(i)) {
          problems.push(`${where}: the record starts at message ${head.firstMessage}, byte ${head.firstByte} with ${payload} bytes; the index disagrees`);
        }
      } catch (err) {
        problems.push(`${where}: ${(err as Error).message}`);
      }
    }
  }
  return problems;
}
