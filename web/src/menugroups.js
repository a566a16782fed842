// The menu's sections, in the order they appear; a page names its section in `meta.group`.
export const GROUPS = ["plant", "accounting", "government", "admin"];
