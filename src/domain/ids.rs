//! Typed database ids, so that a customer id can never be passed where an order id is meant.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_type!(
    /// A customer, whatever channels they use.
    CustomerId
);
id_type!(
    /// An order (the customer-facing handle is its `OrderNumber`).
    OrderId
);
id_type!(
    /// A saved delivery address of a customer.
    AddressId
);
id_type!(
    /// A courier.
    CourierId
);
id_type!(
    /// A human agent of the support console.
    AgentId
);

/// The channel a customer talks to freshbot through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Telegram,
    Wechat,
    /// A WeCom (企业微信) app: its users are a company's members, with UserIDs of their own.
    Wecom,
    Web,
    Cli,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Telegram,
        Channel::Wechat,
        Channel::Wecom,
        Channel::Web,
        Channel::Cli,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Channel::Telegram => "telegram",
            Channel::Wechat => "wechat",
            Channel::Wecom => "wecom",
            Channel::Web => "web",
            Channel::Cli => "cli",
        }
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for Channel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.code() == s)
            .ok_or_else(|| format!("unknown channel {s:?}"))
    }
}
