// Enterprise groups (集团, api/groups/): the groups the caller may see, which can hold carbon targets.
import {getJSON} from "./http.js";

/** GET /groups: the groups in scope, each with members, member_names and `mine` (the caller's own members). */
export async function listGroups() { return (await getJSON("/groups")).groups; }

