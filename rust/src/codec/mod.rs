//! Body codecs: framings a request body arrives in, decoded as a stream before anyone reads it.
//! Each codec has its own error type; `s3_error` maps it to what the client is told.

pub mod aws_chunked;
