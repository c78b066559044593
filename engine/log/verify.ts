/**
 * Re-reads every record of every segment and reports each frame that fails its
 * checksum or structure check, with file and offset. Only bytes below each
 * segment's committedEnd are read, so a verify during writes sees no torn tail.
 */
import { FrameStatus } from "../format/record.js";
import { SEGMENT_HEADER_BYTES } from "../limits.js";
import type { Log } from "./log.js";
import { followedByValidFrame, resynchronise } from "./recovery.js";

export interface LogScanReport {
  records: number;
  problems: string[];
}

export function verifyLog(log: Log): LogScanReport {
  const report: LogScanReport = { records: 0, problems: [] };
  for (const segment of log.segments) {
    const cursor = log.cursor(segment, SEGMENT_HEADER_BYTES, segment.committedEnd);
    while (cursor.examine()) {
      if (cursor.status === FrameStatus.Ok) {
        report.records++;
        cursor.advance();
        continue;
      }
      const bad = cursor.offset;
      report.problems.push(`${segment.path} offset ${bad}: ${cursor.status === FrameStatus.Torn ? "record runs past the end of the segment" : "record checksum or frame check failed"}`);
      const trusted = cursor.status === FrameStatus.Corrupt && followedByValidFrame(cursor, segment.committedEnd);
      if (!resynchronise(cursor, bad, trusted)) break;
    }
  }
  return report;
}
