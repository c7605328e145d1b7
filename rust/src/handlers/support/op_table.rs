//! The `operations!` macro behind `handlers/operations.rs`. From one table entry per operation
//! it writes the `S3Op` enum, `name()`, `need()`, the resource accessors, the routing match and
//! the dispatch match, so an operation is declared in exactly one place.
//!
//! An entry reads:
//! ```text
//! Name: METHOD Target ["subresource"] when guard { field: Type = parse, … } needs NEED => handler;
//! ```
//! * `Target` is the resource type (`ServiceTarget`, `BucketTarget`, `ObjectTarget`,
//!   `UploadTarget`); its `KIND` says which paths it answers.
//! * `["subresource"]` is the query marker that selects the operation (`[]` for none). Among the
//!   markers the table knows for the path's kind, the first one the query has is the request's.
//! * `when guard` (optional) names a `fn(&RouteInput) -> bool` that must also hold; entries are
//!   tried in table order, so a guarded entry comes before its unguarded sibling.
//! * Each field is parsed from the query (bound to the name given after `query =`) when the
//!   operation is built; `?` returns the S3 error for a bad value.
//! * The handler is called as `handler(ctx, req, &target, field…)`.

macro_rules! operations {
    (@marker) => { None };
    (@marker $sub:literal) => { Some($sub) };
    (
        query = $q:ident;
        $(
            $(#[$meta:meta])*
            $name:ident : $method:ident $target:ident [$($sub:literal)?] $(when $guard:ident)?
                { $($field:ident : $ty:ty = $parse:expr),* $(,)? }
                needs $need:expr => $handler:path;
        )*
    ) => {
        /// One S3 operation with its resource and typed parameters.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum S3Op {
            $(
                $(#[$meta])*
                $name { target: $target, $($field: $ty),* },
            )*
        }

        impl S3Op {
            /// The AWS name of the operation, for logs.
            pub fn name(&self) -> &'static str {
                match self {
                    $( Self::$name { .. } => stringify!($name), )*
                }
            }

            /// What the requester needs to run it.
            pub fn need(&self) -> Need {
                match self {
                    $( Self::$name { .. } => $need, )*
                }
            }

            pub fn bucket(&self) -> Option<&str> {
                match self {
                    $( Self::$name { target, .. } => target.bucket(), )*
                }
            }

            pub fn key(&self) -> Option<&str> {
                match self {
                    $( Self::$name { target, .. } => target.key(), )*
                }
            }

            /// The object version the operation is about (`?versionId=`), if it names one.
            pub fn version_id(&self) -> Option<&str> {
                match self {
                    $( Self::$name { target, .. } => target.version_id(), )*
                }
            }
        }

        /// The AWS names of every operation, in table order (fault rules are checked against it).
        pub const OPERATION_NAMES: &[&str] = &[$(stringify!($name),)*];

        /// The subresource markers of the table, in table order.
        const MARKERS: &[(ResourceKind, &str)] = &[
            $( $( (<$target>::KIND, $sub), )? )*
        ];

        /// The first entry matching the request, built with its parsed parameters.
        fn build(input: &RouteInput<'_>, marker: Option<&str>) -> Option<S3Result<S3Op>> {
            $(
                if input.method == Method::$method
                    && input.kind() == <$target>::KIND
                    && marker == operations!(@marker $($sub)?)
                    $(&& $guard(input))?
                {
                    let built = || -> S3Result<S3Op> {
                        let target = <$target>::from_input(input)?;
                        #[allow(unused_variables)]
                        let $q = input.query;
                        Ok(S3Op::$name { target, $($field: $parse),* })
                    };
                    return Some(built());
                }
            )*
            None
        }

        /// Runs the operation's handler.
        pub async fn run(
            op: S3Op,
            ctx: &Context<'_>,
            req: &mut Req<'_>,
        ) -> S3Result<Response<ResponseBody>> {
            match op {
                $( S3Op::$name { target, $($field),* } => $handler(ctx, req, &target, $($field),*).await, )*
            }
        }
    };
}

pub(crate) use operations;
