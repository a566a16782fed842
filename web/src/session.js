// The signed-in person (GET /auth/me), shared by the shell, the router and the views.
import {reactive} from "vue";

export const session = reactive({me: null});

/** Whether the signed-in role has `permission`. */
export function can(permission) { return session.me !== null && session.me.permissions.includes(permission); }
