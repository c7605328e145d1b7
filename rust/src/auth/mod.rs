//! Request authentication. Today: decoding of `aws-chunked` bodies (signatures are accepted
//! unverified while `auth.enabled` is off, the only mode implemented so far).

pub mod chunked;
