//! Helpers the operations share; none of them is an operation itself.

pub mod access;
pub mod acl_wire;
pub mod conditions;
pub mod copy_source;
pub mod form;
pub mod headers;
pub mod integrity;
pub mod op_table;
pub mod policy_cache;
pub mod policy_request;
pub mod range;
pub mod upload;
