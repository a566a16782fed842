// Hand a file the API answered with to the browser's downloads.

/** Save `blob` as `name` through a hidden link (the object URL is freed once the download has started). */
export function saveFile({name, blob}) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
