"""HTTP/WebSocket adapter: app factory, middleware, dependencies and routers."""
