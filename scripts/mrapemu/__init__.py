"""mrapemu: a local emulator of an Amazon S3 Multi-Region Access Point.

Module map: config (accounts, buckets, MRAPs, routing), store (objects on
disk), ingest/checksums (request bodies and integrity checks), s3ops /
multipart / bucketops (operations), objattrs (tags, ACLs, Object Lock), ops
(operation names, dispatch), server (HTTP, routing, auth, faults, accounting),
control / control_ops / control_xml (S3 Control's MRAP operations, their
asynchronous requests and documents), replication (copies between an MRAP's
buckets after a lag), timers (the one scheduler thread), accounting (stats,
faults), admin (/_emulator/ API), sigv4 (signature checks, maintained
separately), __main__ (command line).
"""
