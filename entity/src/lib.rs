//! SeaORM entities of the content database. Generated-style models only: no GraphQL
//! derives and no business rules live here.

pub mod api_key;
pub mod article;
pub mod article_tag;
pub mod author;
pub mod tag;
pub mod webhook;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod webhook_event;

pub mod prelude {
    //! The entities under short names.
    pub use super::api_key::Entity as ApiKey;
    pub use super::article::Entity as Article;
    pub use super::article_tag::Entity as ArticleTag;
    pub use super::author::Entity as Author;
    pub use super::tag::Entity as Tag;
    pub use super::webhook::Entity as Webhook;
    pub use super::webhook_attempt::Entity as WebhookAttempt;
    pub use super::webhook_delivery::Entity as WebhookDelivery;
    pub use super::webhook_event::Entity as WebhookEvent;
}
