// The one bench payload, the same bytes from both servers (bench/py_server.py builds the same dict): a
// NotificationData-shaped object whose first two keys are the bench's sequence number and send stamp, so the
// load generator reads them at a fixed place without parsing JSON.
import { performance } from "node:perf_hooks";

export const nowMs = () => performance.timeOrigin + performance.now();

export function benchPayload(seq, sentAt) {
  return {
    seq,
    sent_at: sentAt,
    notification_id: 1000000 + seq,
    type: "system",
    title: "Scheduled maintenance tonight",
    content: "The platform will be read-only from 02:00 to 02:30 (Beijing time) while the database is upgraded.",
    created_at: "2024-06-01T10:00:00.000+08:00",
    is_read: false,
  };
}
