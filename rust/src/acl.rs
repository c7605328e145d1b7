//! Owners, access control lists and the decisions they imply, as S3 defines them for buckets and
//! objects with ACLs enabled (object ownership "ObjectWriter").

use serde::{Deserialize, Serialize};

/// A user as S3 names it: canonical id and display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub id: String,
    pub display_name: String,
}

impl Owner {
    /// The owner of what anonymous users write into a public-read-write bucket (S3's id for them).
    pub fn anonymous() -> Self {
        Self {
            id: "65a011a29cdf8ec533ec3d1ccaae921c".into(),
            display_name: "anonymous".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Group {
    AllUsers,
    AuthenticatedUsers,
    LogDelivery,
}

impl Group {
    pub fn uri(self) -> &'static str {
        match self {
            Self::AllUsers => "http://acs.amazonaws.com/groups/global/AllUsers",
            Self::AuthenticatedUsers => "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
            Self::LogDelivery => "http://acs.amazonaws.com/groups/s3/LogDelivery",
        }
    }

    pub fn from_uri(uri: &str) -> Option<Self> {
        [Self::AllUsers, Self::AuthenticatedUsers, Self::LogDelivery]
            .into_iter()
            .find(|g| g.uri() == uri.trim())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Grantee {
    User {
        id: String,
        display_name: Option<String>,
    },
    Group(Group),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Permission {
    Read,
    Write,
    ReadAcp,
    WriteAcp,
    FullControl,
}

impl Permission {
    pub const ALL: [Permission; 5] = [
        Self::FullControl,
        Self::Write,
        Self::WriteAcp,
        Self::Read,
        Self::ReadAcp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Read => "READ",
            Self::Write => "WRITE",
            Self::ReadAcp => "READ_ACP",
            Self::WriteAcp => "WRITE_ACP",
            Self::FullControl => "FULL_CONTROL",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name.trim())
    }

    /// The `x-amz-grant-*` header that grants this permission.
    pub fn header(self) -> &'static str {
        match self {
            Self::Read => "x-amz-grant-read",
            Self::Write => "x-amz-grant-write",
            Self::ReadAcp => "x-amz-grant-read-acp",
            Self::WriteAcp => "x-amz-grant-write-acp",
            Self::FullControl => "x-amz-grant-full-control",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub grantee: Grantee,
    pub permission: Permission,
}

/// An access control list with its owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acl {
    pub owner: Owner,
    pub grants: Vec<Grant>,
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requester {
    Anonymous,
    User(Owner),
}

impl Requester {
    pub fn owner(&self) -> Owner {
        match self {
            Self::Anonymous => Owner::anonymous(),
            Self::User(owner) => owner.clone(),
        }
    }
}

pub const CANNED: [&str; 7] = [
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
    "log-delivery-write",
];

fn user(owner: &Owner) -> Grantee {
    Grantee::User {
        id: owner.id.clone(),
        display_name: Some(owner.display_name.clone()),
    }
}

impl Acl {
    /// The `private` ACL: the owner has full control.
    pub fn private(owner: Owner) -> Self {
        Self {
            grants: vec![Grant {
                grantee: user(&owner),
                permission: Permission::FullControl,
            }],
            owner,
        }
    }

    /// A canned ACL (`x-amz-acl`); `bucket_owner` matters for the `bucket-owner-*` ones.
    pub fn canned(name: &str, owner: Owner, bucket_owner: Option<&Owner>) -> Option<Self> {
        let mut acl = Self::private(owner);
        let mut add = |grantee: Grantee, permission: Permission| {
            acl.grants.push(Grant {
                grantee,
                permission,
            })
        };
        match name.trim() {
            "private" => {}
            "public-read" => add(Grantee::Group(Group::AllUsers), Permission::Read),
            "public-read-write" => {
                add(Grantee::Group(Group::AllUsers), Permission::Read);
                add(Grantee::Group(Group::AllUsers), Permission::Write);
            }
            "authenticated-read" => {
                add(Grantee::Group(Group::AuthenticatedUsers), Permission::Read)
            }
            "bucket-owner-read" => {
                if let Some(b) = bucket_owner {
                    add(user(b), Permission::Read);
                }
            }
            "bucket-owner-full-control" => {
                if let Some(b) = bucket_owner {
                    add(user(b), Permission::FullControl);
                }
            }
            "log-delivery-write" => {
                add(Grantee::Group(Group::LogDelivery), Permission::Write);
                add(Grantee::Group(Group::LogDelivery), Permission::ReadAcp);
            }
            _ => return None,
        }
        // The bucket-owner-* grants name the owner twice when the writer owns the bucket.
        acl.grants.dedup();
        Some(acl)
    }

    /// Whether it grants anything to everyone or to every signed-in user (what S3's public
    /// access block calls a public ACL).
    pub fn is_public(&self) -> bool {
        self.grants.iter().any(|g| {
            matches!(
                g.grantee,
                Grantee::Group(Group::AllUsers | Group::AuthenticatedUsers)
            )
        })
    }

    /// The ACL without its public grants (`IgnorePublicAcls`).
    pub fn without_public_grants(&self) -> Self {
        let mut acl = self.clone();
        acl.grants.retain(|g| {
            !matches!(
                g.grantee,
                Grantee::Group(Group::AllUsers | Group::AuthenticatedUsers)
            )
        });
        acl
    }

    /// Whether `requester` holds `permission`. Owners always do.
    pub fn allows(&self, requester: &Requester, permission: Permission) -> bool {
        if let Requester::User(owner) = requester {
            if owner.id == self.owner.id {
                return true;
            }
        }
        self.grants.iter().any(|grant| {
            let covers =
                grant.permission == permission || grant.permission == Permission::FullControl;
            let matches = match (&grant.grantee, requester) {
                (Grantee::Group(Group::AllUsers), _) => true,
                (Grantee::Group(Group::AuthenticatedUsers), Requester::User(_)) => true,
                (Grantee::User { id, .. }, Requester::User(owner)) => *id == owner.id,
                _ => false,
            };
            covers && matches
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(id: &str) -> Owner {
        Owner {
            id: id.into(),
            display_name: id.into(),
        }
    }

    #[test]
    fn canned_acls_decide_as_s3_does() {
        let alice = Requester::User(owner("alice"));
        let bob = Requester::User(owner("bob"));
        let private = Acl::canned("private", owner("alice"), None).unwrap();
        assert!(private.allows(&alice, Permission::Write));
        assert!(!private.allows(&bob, Permission::Read));
        assert!(!private.allows(&Requester::Anonymous, Permission::Read));

        let public = Acl::canned("public-read", owner("alice"), None).unwrap();
        assert!(public.allows(&Requester::Anonymous, Permission::Read));
        assert!(!public.allows(&Requester::Anonymous, Permission::Write));
        assert!(!public.allows(&bob, Permission::ReadAcp));

        let open = Acl::canned("public-read-write", owner("alice"), None).unwrap();
        assert!(open.allows(&Requester::Anonymous, Permission::Write));

        let authenticated = Acl::canned("authenticated-read", owner("alice"), None).unwrap();
        assert!(authenticated.allows(&bob, Permission::Read));
        assert!(!authenticated.allows(&Requester::Anonymous, Permission::Read));

        let for_bucket_owner = Acl::canned(
            "bucket-owner-full-control",
            owner("bob"),
            Some(&owner("alice")),
        )
        .unwrap();
        assert!(for_bucket_owner.allows(&alice, Permission::WriteAcp));
        let read_only =
            Acl::canned("bucket-owner-read", owner("bob"), Some(&owner("alice"))).unwrap();
        assert!(read_only.allows(&alice, Permission::Read));
        assert!(!read_only.allows(&alice, Permission::Write));

        assert!(Acl::canned("public-write-only", owner("alice"), None).is_none());
    }

    #[test]
    fn explicit_grants() {
        let mut acl = Acl::private(owner("alice"));
        acl.grants.push(Grant {
            grantee: Grantee::User {
                id: "bob".into(),
                display_name: None,
            },
            permission: Permission::ReadAcp,
        });
        let bob = Requester::User(owner("bob"));
        assert!(acl.allows(&bob, Permission::ReadAcp));
        assert!(!acl.allows(&bob, Permission::Read));
        assert_eq!(
            Group::from_uri("http://acs.amazonaws.com/groups/global/AllUsers"),
            Some(Group::AllUsers)
        );
        assert_eq!(
            Permission::from_name("WRITE_ACP"),
            Some(Permission::WriteAcp)
        );
    }
}
