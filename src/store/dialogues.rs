//! Dialogue state (the guided `/deploy` and friends) behind teloxide's
//! `Storage` trait, on the bot's own pool: a restart resumes a dialogue
//! where it stood. States are stored as JSON.

use std::marker::PhantomData;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use teloxide::dispatching::dialogue::Storage;

use super::{Store, StoreError, now_ms, on_pool};

/// Dialogue states of type `D`, one per chat.
pub struct DialogueStorage<D> {
    store: Store,
    _state: PhantomData<fn() -> D>,
}

impl<D> DialogueStorage<D> {
    pub fn new(store: Store) -> Arc<Self> {
        Arc::new(Self {
            store,
            _state: PhantomData,
        })
    }
}

impl Store {
    async fn put_dialogue(&self, chat: i64, state: String) -> Result<(), StoreError> {
        let sql = "INSERT INTO dialogues (chat_id, state, updated_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (chat_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at";
        on_pool!(self, p => sqlx::query(sql).bind(chat).bind(state).bind(now_ms()).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    async fn take_dialogue(&self, chat: i64) -> Result<Option<String>, StoreError> {
        let sql = "SELECT state FROM dialogues WHERE chat_id = $1";
        let row: Option<(String,)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(chat).fetch_optional(p).await)?;
        Ok(row.map(|(s,)| s))
    }

    /// Ends a chat's dialogue; false when there was none (another tap
    /// ended it first): the compare-and-set that runs a dialogue's
    /// command once, however many times its last button is tapped.
    pub async fn end_dialogue(&self, chat: i64) -> Result<bool, StoreError> {
        let sql = "DELETE FROM dialogues WHERE chat_id = $1";
        let ended = on_pool!(self, p => sqlx::query(sql).bind(chat).execute(p).await.map(|r| r.rows_affected() == 1))?;
        Ok(ended)
    }

    async fn drop_dialogue(&self, chat: i64) -> Result<(), StoreError> {
        let sql = "DELETE FROM dialogues WHERE chat_id = $1";
        on_pool!(self, p => sqlx::query(sql).bind(chat).execute(p).await.map(|_| ()))?;
        Ok(())
    }
}

impl<D> Storage<D> for DialogueStorage<D>
where
    D: Serialize + DeserializeOwned + Send + 'static,
{
    type Error = StoreError;

    fn remove_dialogue(
        self: Arc<Self>,
        chat_id: teloxide::types::ChatId,
    ) -> BoxFuture<'static, Result<(), Self::Error>> {
        Box::pin(async move { self.store.drop_dialogue(chat_id.0).await })
    }

    fn update_dialogue(
        self: Arc<Self>,
        chat_id: teloxide::types::ChatId,
        dialogue: D,
    ) -> BoxFuture<'static, Result<(), Self::Error>> {
        Box::pin(async move {
            let state =
                serde_json::to_string(&dialogue).map_err(|e| StoreError::Codec(e.to_string()))?;
            self.store.put_dialogue(chat_id.0, state).await
        })
    }

    fn get_dialogue(
        self: Arc<Self>,
        chat_id: teloxide::types::ChatId,
    ) -> BoxFuture<'static, Result<Option<D>, Self::Error>> {
        Box::pin(async move {
            match self.store.take_dialogue(chat_id.0).await? {
                None => Ok(None),
                Some(state) => serde_json::from_str(&state)
                    .map(Some)
                    .map_err(|e| StoreError::Codec(e.to_string())),
            }
        })
    }
}
