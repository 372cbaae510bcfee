// Starts Swagger UI on the /docs page. It is a file of its own, served from this origin,
// because the page's Content-Security-Policy allows no inline script (workers/docs.ts).
const root = document.getElementById("swagger-ui");

window.ui = SwaggerUIBundle({
  domNode: root,
  url: root.dataset.openapiUrl,
  deepLinking: true,
  // Never send the document to validator.swagger.io (what the badge of Swagger UI's
  // standalone layout does; this page uses the base layout, and keeps it off regardless).
  validatorUrl: null,
  // Never load another document named in the page's URL (?url=…) into this origin.
  queryConfigEnabled: false,
});
