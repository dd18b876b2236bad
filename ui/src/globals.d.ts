// The generated bindings (src/bindings/api.ts) name `JsonValue` (serde_json::Value) without
// declaring it. Declared here, globally, until the generator emits it; once api.ts declares
// its own, that module-scoped one takes precedence and this file can be deleted.
type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]?: JsonValue } | null;
