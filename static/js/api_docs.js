// The API docs page: Swagger UI (served by the app, no CDN) over openapi.json.
const root = document.getElementById("swagger-ui");

window.SwaggerUIBundle({
  url: root.dataset.specUrl,
  domNode: root,
  deepLinking: true,
  // The API answers without CSRF tokens or cookies; keep "Try it out" to this server.
  tryItOutEnabled: false,
  validatorUrl: null,
});
