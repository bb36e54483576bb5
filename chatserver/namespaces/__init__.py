"""Socket.IO namespaces: one per audience. Handlers stay thin: validate -> store -> dispatcher -> ack."""
