"""Who may do what, as S3 decides it: accounts and the anonymous principal,
ACLs, bucket policies, Object Ownership and the public access block, as pure
functions over plain data (no aiohttp, no storage). auth.access applies them
to each request."""
