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

export async function verifyLog(log: Log, onProgress?: (p: { done: number; total: number }) => void): Promise<LogScanReport> {
  const report: LogScanReport = { records: 0, problems: [] };
  // A copy: the segment list may change while a segment's scan yields.
  const segments = [...log.segments];
  const total = segments.reduce((n, s) => n + s.committedEnd, 0);
  let done = 0;
  for (const listed of segments) {
    // One segment per turn of the event loop, so a verify beside a running service does not stall it.
    await new Promise<void>((resolve) => setImmediate(resolve));
    onProgress?.({ done, total });
    // A compaction may have swapped the segment meanwhile: scan the one the log has now.
    const segment = log.segments.find((s) => s.number === listed.number);
    if (segment === undefined) continue;
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
    done += listed.committedEnd;
  }
  onProgress?.({ done, total });
  return report;
}
