/** The `.udgl` file icon (file browser, tabs, launcher, menus). */
import { LabIcon } from '@jupyterlab/ui-components';

import iconSvg from '../style/udgl.svg';

export const udglIcon = new LabIcon({ name: 'hogar_nb:udgl', svgstr: iconSvg });
