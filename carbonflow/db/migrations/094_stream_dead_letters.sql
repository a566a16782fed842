-- The stream worker's dead letters are written once per Kafka record.
--
-- The stream worker dead-letters a record it cannot decode or store (stage 'stream') before the consumer
-- commits the record's offset, so a crash in between replays the record and it fails again. The worker
-- then looks for a stream dead letter with the same bytes and writes none if there is one; this index
-- makes that look-up one probe of the few stream dead letters instead of a scan of every dead letter.
CREATE INDEX IF NOT EXISTS dead_letters_stream_payload_idx ON dead_letters (md5(payload)) WHERE stage = 'stream';
