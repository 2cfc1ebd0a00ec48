// The host application's own script, served by its handler under /static/ and answered by
// offload's edge cache after the first request.
document.addEventListener("DOMContentLoaded", () => {
  document.body.dataset.app = "offload-demo";
});
