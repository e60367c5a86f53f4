//! A real HTTP receiver standing in for the SMS provider: Tessera's `webhook` sender posts to
//! it, and tests read the codes it received.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::Value;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
pub struct SmsInbox {
    received: Arc<Mutex<Vec<Value>>>,
    pub url: String,
}

impl SmsInbox {
    /// Starts the receiver on a free port of 127.0.0.1.
    pub async fn start() -> SmsInbox {
        let received: Arc<Mutex<Vec<Value>>> = Arc::default();
        let app = Router::new().route(
            "/sms",
            post(
                |State(r): State<Arc<Mutex<Vec<Value>>>>, Json(v): Json<Value>| async move {
                    r.lock().unwrap().push(v);
                    StatusCode::OK
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = received.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app.with_state(state)).await;
        });
        SmsInbox {
            received,
            url: format!("http://{addr}/sms"),
        }
    }

    /// Every message received, oldest first.
    pub fn all(&self) -> Vec<Value> {
        self.received.lock().unwrap().clone()
    }

    /// The last code sent to `phone`.
    pub fn last_code(&self, phone: &str) -> Option<String> {
        self.all()
            .iter()
            .rev()
            .find(|m| m["phone"] == phone)
            .and_then(|m| m["code"].as_str().map(str::to_string))
    }
}
