//! Chat messages, tool calls and tool declarations, and their OpenAI wire form.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// One message of the conversation sent to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: Role,
    pub content: String,
    /// Assistant messages only: the tools the model asked for.
    pub tool_calls: Vec<ToolCall>,
    /// Tool messages only: the call this message answers.
    pub tool_call_id: Option<String>,
}

impl Message {
    fn plain(role: Role, content: impl Into<String>) -> Self {
        Message { role, content: content.into(), tool_calls: Vec::new(), tool_call_id: None }
    }
    pub fn system(content: impl Into<String>) -> Self {
        Message::plain(Role::System, content)
    }
    /// A visitor's message. Special tokens in it are neutralised when the agent loop
    /// sends it ([`crate::prompt::neutralize_tokens`]).
    pub fn user(content: impl Into<String>) -> Self {
        Message::plain(Role::User, content)
    }
    /// An earlier reply of the agent (or of a human colleague, as far as the model is
    /// concerned).
    pub fn assistant(content: impl Into<String>) -> Self {
        Message::plain(Role::Assistant, content)
    }
    pub fn assistant_tool_calls(content: impl Into<String>, tool_calls: Vec<ToolCall>) -> Self {
        Message { tool_calls, ..Message::plain(Role::Assistant, content) }
    }
    pub fn tool(tool_call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Message { tool_call_id: Some(tool_call_id.into()), ..Message::plain(Role::Tool, content) }
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("role", self.role.as_str())?;
        if self.role == Role::Assistant && !self.tool_calls.is_empty() {
            if self.content.is_empty() {
                m.serialize_entry("content", &Value::Null)?;
            } else {
                m.serialize_entry("content", &self.content)?;
            }
            m.serialize_entry("tool_calls", &self.tool_calls)?;
        } else {
            m.serialize_entry("content", &self.content)?;
        }
        if let Some(id) = &self.tool_call_id {
            m.serialize_entry("tool_call_id", id)?;
        }
        m.end()
    }
}

/// A call of a tool by the model. `arguments` is the JSON text as the model wrote it
/// (it may be invalid: the agent loop checks it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

impl ToolCall {
    pub fn new(id: impl Into<String>, name: impl Into<String>, arguments: impl Into<String>) -> Self {
        ToolCall { id: id.into(), name: name.into(), arguments: arguments.into() }
    }
}

impl Serialize for ToolCall {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Function<'a> {
            name: &'a str,
            arguments: &'a str,
        }
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("type", "function")?;
        m.serialize_entry("function", &Function { name: &self.name, arguments: &self.arguments })?;
        m.end()
    }
}

/// A tool offered to the model. `parameters` is a JSON Schema object.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: Value,
}

impl ToolSpec {
    pub fn new(name: impl Into<String>, description: impl Into<String>, parameters: Value) -> Self {
        ToolSpec { name: name.into(), description: description.into(), parameters }
    }
}

impl Serialize for ToolSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Function<'a> {
            name: &'a str,
            description: &'a str,
            parameters: &'a Value,
        }
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("type", "function")?;
        m.serialize_entry(
            "function",
            &Function { name: &self.name, description: &self.description, parameters: &self.parameters },
        )?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_format() {
        let call = ToolCall::new("call_1", "search_knowledge", r#"{"query":"refunds"}"#);
        let msgs = vec![
            Message::system("s"),
            Message::user("u"),
            Message::assistant_tool_calls("", vec![call]),
            Message::tool("call_1", "result"),
            Message::assistant("a"),
        ];
        assert_eq!(
            serde_json::to_value(&msgs).unwrap(),
            json!([
                {"role": "system", "content": "s"},
                {"role": "user", "content": "u"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function",
                     "function": {"name": "search_knowledge", "arguments": "{\"query\":\"refunds\"}"}}
                ]},
                {"role": "tool", "content": "result", "tool_call_id": "call_1"},
                {"role": "assistant", "content": "a"},
            ])
        );
        let spec = ToolSpec::new("t", "d", json!({"type": "object"}));
        assert_eq!(
            serde_json::to_value(&spec).unwrap(),
            json!({"type": "function", "function": {"name": "t", "description": "d", "parameters": {"type": "object"}}})
        );
    }
}
