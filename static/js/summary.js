// The summary waits for the model's last verdicts: reload until none is pending.
const page = document.getElementById("summary");
if (page?.dataset.pending) setTimeout(() => window.location.reload(), 2500);
