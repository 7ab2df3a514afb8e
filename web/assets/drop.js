// The page works without this script, as a plain form; the script adds dropping a photo
// anywhere on the page, which sends it as if it had been chosen with the file input.
(function () {
  var form = document.getElementById('upload');
  var input = document.getElementById('photo');
  var drop = document.getElementById('drop');
  var button = document.getElementById('submit');
  if (!form || !input || !drop) {
    return;
  }
  form.addEventListener('submit', function () {
    button.disabled = true;
    button.textContent = 'Looking…';
  });
  ['dragenter', 'dragover'].forEach(function (type) {
    document.addEventListener(type, function (e) {
      e.preventDefault();
      drop.classList.add('over');
    });
  });
  document.addEventListener('dragleave', function () {
    drop.classList.remove('over');
  });
  document.addEventListener('drop', function (e) {
    e.preventDefault();
    drop.classList.remove('over');
    if (!e.dataTransfer || e.dataTransfer.files.length === 0) {
      return;
    }
    input.files = e.dataTransfer.files;
    form.requestSubmit ? form.requestSubmit() : form.submit();
  });
})();
